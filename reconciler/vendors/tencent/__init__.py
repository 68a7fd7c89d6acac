"""Tencent live engine REST: MCU mixes of a room."""
