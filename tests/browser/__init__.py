"""The browser test group: the built site and its email in Debian's headless Chromium."""
