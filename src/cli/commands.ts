// Commands implemented by other folders register here (scan: src/batch, stream: src/stream).
export {};
