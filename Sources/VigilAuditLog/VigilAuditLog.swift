// VigilAuditLog: Linux audit and Kubernetes API audit sensors (in progress).
