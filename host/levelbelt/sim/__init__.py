"""Simulated athlete and IMU: scripted pelvis motion with ground truth, and a sensor model.

`body` turns a script of segments into pelvis orientation, angular velocity and sacrum
acceleration with truth angles and labelled events; `sensor` turns that into quantised
IMU samples in the firmware's integer units; `scenarios` holds ready-made scripts.
"""
