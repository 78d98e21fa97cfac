"""The local engine server and the `sonocanvas` command line: OSC, jobs, drops, effects, audition, presets."""
