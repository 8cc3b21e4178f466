"""Procedure definitions (*thủ tục hành chính*) as versioned data, with their schema."""
