"""anyRTC cloud recording (the Agora-compatible REST API)."""
