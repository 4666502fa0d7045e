"""The foundation every layer uses: settings, errors, URLs, findings, connections, locks, processes."""
