print("xcsh placeholder")
