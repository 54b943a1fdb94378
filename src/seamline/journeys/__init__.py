"""Connected journeys: progress and entered data on the server, resumable on any device, channel or agent."""
