import { z } from 'zod';
import { isValidTimeZone } from './quiet-hours';

export const channelSchema = z.enum(['sms', 'email', 'ivr', 'whatsapp']);
export type Channel = z.infer<typeof channelSchema>;

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550100');
/** Business and category ids: they appear in workflow ids, URLs and search attributes as they are. */
export const idPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * WhatsApp's own split of business-initiated messages: a contact who stops marketing inside WhatsApp
 * (or whom WhatsApp refuses marketing for, error 131050) still gets utility messages such as order
 * updates. Unmarked categories count as marketing, so a stop is never honoured too narrowly.
 */
export const CATEGORY_KINDS = ['marketing', 'utility'] as const;

export const categorySchema = z.object({
  id: z.string().regex(idPattern, 'must be lower-case letters, digits, _ or -'),
  label: z.string().min(1).max(80),
  kind: z.enum(CATEGORY_KINDS).default('marketing'),
});
export type Category = z.infer<typeof categorySchema>;

const metaTemplateName = /^[a-z0-9_]{1,512}$/;

/**
 * Who carries the business's WhatsApp messages: Twilio (content ids in whatsappTemplates), or Meta's
 * Cloud API directly (template names in whatsappTemplates, approved in every language the business
 * writes in). Meta's secrets (access token, app secret, verify token) come from the environment only.
 */
export const whatsappProviderSchema = z.discriminatedUnion('provider', [
  z.object({ provider: z.literal('twilio') }),
  z.object({
    provider: z.literal('meta'),
    /** The Graph API id of the business's WhatsApp number (not the number itself). */
    phoneNumberId: z.string().regex(/^\d{5,20}$/, 'must be the digits of a Graph API phone-number id'),
    /** The WhatsApp Business Account the number belongs to, as webhooks name it in entry[].id. */
    wabaId: z.string().regex(/^\d{5,20}$/, 'must be the digits of a WhatsApp Business Account id').optional(),
    apiVersion: z.string().regex(/^v\d+\.\d+$/, 'must look like v21.0').default('v21.0'),
  }),
]);
export type WhatsappProvider = z.infer<typeof whatsappProviderSchema>;

export const businessSchema = z
  .object({
    id: z.string().regex(idPattern, 'must be lower-case letters, digits, _ or -'),
    name: z.string().min(1).max(120),
    defaultLocale: z.string().min(2).max(10).default('en'),
    senders: z.object({
      sms: e164,
      whatsapp: e164,
      voice: e164,
      email: z.email(),
    }),
    categories: z.array(categorySchema).min(1),
    whatsappTemplates: z.object({
      optinRequest: z.string().min(1),
      confirmation: z.string().min(1),
      optoutConfirmation: z.string().min(1),
    }),
    whatsapp: whatsappProviderSchema.default({ provider: 'twilio' }),
    /** Twilio only: content id of the session (non-template) quick-reply message used inside the 24-hour window. */
    whatsappQuickReplyContent: z.string().min(1).optional(),
    /**
     * Content id of the session quick-reply message that asks which categories (body `{{1}}`, one button
     * per category with id `category:<category id>`, then `category:all`). Without it, or with more than
     * nine categories, WhatsApp gets the same numbered list as SMS.
     */
    whatsappCategoryChoiceContent: z.string().min(1).optional(),
    keywords: z
      .object({
        optOut: z.array(z.string()).optional(),
        optIn: z.array(z.string()).optional(),
        help: z.array(z.string()).optional(),
        yes: z.array(z.string()).optional(),
        no: z.array(z.string()).optional(),
      })
      .default({}),
    /** At most one journey's opt-in requests per contact in this many days (0: no cap); campaigns skip, journeys wait. */
    frequencyCapDays: z.number().int().min(0).default(30),
    /** Campaign pacing: provider sending rates and WhatsApp's daily limit of new contacts (the number's tier). */
    sending: z
      .object({
        smsPerSecond: z.number().positive().default(1),
        whatsappPerSecond: z.number().positive().default(80),
        whatsappTier: z.number().int().positive().default(250),
        emailPerSecond: z.number().positive().default(10),
        callsPerSecond: z.number().positive().default(1),
        /** Meta only: how many times slower campaigns start WhatsApp journeys while the number's quality rating is YELLOW (RED pauses them). */
        whatsappYellowSlowdown: z.number().min(1).default(2),
      })
      .default({ smsPerSecond: 1, whatsappPerSecond: 80, whatsappTier: 250, emailPerSecond: 10, callsPerSecond: 1, whatsappYellowSlowdown: 2 }),
    /**
     * No opt-in request (campaign row, journey request, reminder, later step) in the contact's local
     * night; defaultTimezone when neither the contact nor the phone's country tells.
     */
    quietHours: z
      .object({
        start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)').default('21:00'),
        end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)').default('08:00'),
        defaultTimezone: z.string().refine(isValidTimeZone, 'must be an IANA time zone such as "Europe/Paris"').default('UTC'),
      })
      .default({ start: '21:00', end: '08:00', defaultTimezone: 'UTC' }),
  })
  .superRefine((b, ctx) => {
    if (b.whatsapp.provider === 'twilio' && !b.whatsappQuickReplyContent) {
      ctx.addIssue({ code: 'custom', path: ['whatsappQuickReplyContent'], message: 'is required when WhatsApp goes through Twilio' });
    }
    if (b.whatsapp.provider === 'meta') {
      for (const [key, name] of Object.entries(b.whatsappTemplates)) {
        if (!metaTemplateName.test(name)) ctx.addIssue({ code: 'custom', path: ['whatsappTemplates', key], message: 'must be a Meta template name (lower-case letters, digits and _)' });
      }
    }
    const seen = new Set<string>();
    b.categories.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['categories', i, 'id'], message: `duplicate category id "${c.id}"` });
      seen.add(c.id);
    });
  });
export type Business = z.infer<typeof businessSchema>;

export const businessesFileSchema = z
  .object({ businesses: z.array(businessSchema).min(1) })
  .superRefine((f, ctx) => {
    const seen = new Set<string>();
    f.businesses.forEach((b, i) => {
      if (seen.has(b.id)) ctx.addIssue({ code: 'custom', path: ['businesses', i, 'id'], message: `duplicate business id "${b.id}"` });
      seen.add(b.id);
    });
  });

export class BusinessRegistry {
  private readonly byId = new Map<string, Business>();
  private readonly bySender = new Map<string, Business>();
  private readonly byPhoneNumberId = new Map<string, Business>();

  constructor(businesses: Business[]) {
    for (const b of businesses) {
      this.byId.set(b.id, b);
      for (const n of [b.senders.sms, b.senders.whatsapp, b.senders.voice]) this.bySender.set(n, b);
      if (b.whatsapp.provider === 'meta') this.byPhoneNumberId.set(b.whatsapp.phoneNumberId, b);
    }
  }

  get(id: string): Business | undefined {
    return this.byId.get(id);
  }

  /** The business that owns a sender number (with or without the whatsapp: prefix). */
  bySenderNumber(address: string): Business | undefined {
    return this.bySender.get(address.replace(/^whatsapp:/, ''));
  }

  /** The business whose WhatsApp number has this Graph API id (Meta webhooks name the number so). */
  byMetaPhoneNumberId(phoneNumberId: string): Business | undefined {
    return this.byPhoneNumberId.get(phoneNumberId);
  }

  /** True when some business sends WhatsApp through Meta: then Meta's secrets must be set. */
  usesMeta(): boolean {
    return this.byPhoneNumberId.size > 0;
  }

  all(): Business[] {
    return [...this.byId.values()];
  }
}

export function parseBusinesses(raw: unknown): Business[] {
  const parsed = businessesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid businesses file:\n${lines.join('\n')}`);
  }
  return parsed.data.businesses;
}

/** The business's categories a marketing stop ends: every one not marked utility. */
export function marketingCategories(business: Business): string[] {
  return business.categories.filter((c) => c.kind !== 'utility').map((c) => c.id);
}

export function categoryLabels(business: Business, categoryIds: readonly string[]): string[] {
  return categoryIds.map((id) => business.categories.find((c) => c.id === id)?.label ?? id);
}
