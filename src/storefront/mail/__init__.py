"""Email content: the templates every email is rendered from (below every domain: any may queue one)."""
