// Placeholder until the eBPF sensor tests land.
