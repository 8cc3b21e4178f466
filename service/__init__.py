"""The outer shell: HTTP API, web pages, authentication, scheduler and command line."""
