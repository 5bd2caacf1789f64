"""The things a person runs: the CLI, the demo, the OAuth login helper, agent
tool definitions and the MCP server.

They reach the plugin only through the reference host
(:mod:`modulex_pinterest.host`), as any engine would, and never import the
plugin's internals.
"""
