"""What several vendors share: pure helpers no single vendor owns."""
