print("store crash writer: in progress")
