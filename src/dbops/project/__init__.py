"""Running the project's own code in the project's own interpreter (the agent), one process per database."""
