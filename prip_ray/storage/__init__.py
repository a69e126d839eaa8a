"""Object stores (local folder, S3 via boto3) and other outbound adapters."""
