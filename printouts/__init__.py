"""Printed documents (the legal forms) rendered from engine data."""
