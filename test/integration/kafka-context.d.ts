// Values that test/integration/global-setup.ts provides to the integration tests (`inject(...)`).
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers of the test broker, 'host:port[,host:port]'. */
    kafkaBrokers: string;
  }
}
