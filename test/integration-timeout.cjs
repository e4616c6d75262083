// Integration tests talk to a real broker (group joins take seconds): allow them minutes.
jest.setTimeout(180_000);
