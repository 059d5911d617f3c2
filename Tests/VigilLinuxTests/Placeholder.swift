// Placeholder until the VigilLinux tests land.
