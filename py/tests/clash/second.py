print("second")
