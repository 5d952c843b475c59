"""Reading Lens course vaults (Obsidian Markdown): the text layer, with no Flask in it."""
