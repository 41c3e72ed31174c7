// Spoiler reveal (being built).
