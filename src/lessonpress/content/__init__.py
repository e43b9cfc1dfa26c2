"""Reading a site's sources: config, front matter, Markdown and typography, lessons as frozen values."""
