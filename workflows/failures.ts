/** Every permanent failure type; activities throw these with nonRetryable: true. */
export enum FailureType {
  UnknownBusiness = 'UnknownBusiness',
  InvalidRecipient = 'InvalidRecipient',
  ContactOptedOut = 'ContactOptedOut',
  ProviderRejected = 'ProviderRejected',
  MissingEmail = 'MissingEmail',
  BadInput = 'BadInput',
  ProviderNotConfigured = 'ProviderNotConfigured',
}
