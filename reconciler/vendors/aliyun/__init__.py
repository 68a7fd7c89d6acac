"""Alibaba Cloud RTC (API 2018-01-11): MPU mix tasks."""
