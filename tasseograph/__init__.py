"""Tasseograph: reads the fleet's kernel logs so operators don't have to at 3 a.m."""

__version__ = "0.1.0"
