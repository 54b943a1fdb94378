"""Communications: templates, channels and the log of every outbound communication, ours or another system's."""
