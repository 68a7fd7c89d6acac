"""ZEGO server API: stream mixes and stream bans."""
