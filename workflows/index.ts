export { journeyWorkflow } from './journey/workflow';
export { optOutWorkflow } from './optout/workflow';
export { inboundMessageWorkflow } from './inbound/workflow';
export { campaignWorkflow } from './campaign/workflow';
export { directConsentWorkflow } from './direct/workflow';
