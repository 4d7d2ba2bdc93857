// Global test setup.
