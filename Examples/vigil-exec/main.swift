print("vigil-exec: in progress")
