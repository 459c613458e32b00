// Placeholder until the builder library has its first source.
