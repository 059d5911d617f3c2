// Placeholder until the K8s audit webhook tests land.
