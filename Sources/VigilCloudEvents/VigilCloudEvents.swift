// VigilCloudEvents: CloudTrail, GCP Cloud Audit Logs and Azure Activity Log sensors (in progress).
