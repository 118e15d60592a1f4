/** An embedding provider failed: wrong key or URL, timeout, an answer of the wrong shape, or a model folder that cannot be read. Never carries a key. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly reason: 'auth' | 'unreachable' | 'timeout' | 'bad_response' | 'wrong_dimension' | 'bad_model' | 'other',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
