"""Development tools reached through make and the tests (not shipped with the package)."""
