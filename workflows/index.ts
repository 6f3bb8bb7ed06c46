export { journeyWorkflow, journeyWorkflowV2, journeyWorkflowV3, journeyWorkflowV4, journeyWorkflowV5 } from './journey/workflow';
export { optOutWorkflow, optOutWorkflowV2, optOutWorkflowV3, optOutWorkflowV4, optOutWorkflowV5, optOutWorkflowV6 } from './optout/workflow';
export { inboundMessageWorkflow } from './inbound/workflow';
export { campaignWorkflow } from './campaign/workflow';
export { whatsappTierWorkflow } from './campaign/tier-workflow';
export { directConsentWorkflow } from './direct/workflow';
export { categoryChoiceWorkflow } from './inthread/workflow';
export { eventDeliveryWorkflow } from './event-delivery/workflow';
