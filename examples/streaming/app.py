"""The function: a generator, each chunk sent to the caller as soon as it is yielded."""
import time


def handler(event, context):
    for i in range(int(event.get("chunks", 3))):
        yield f"chunk {i}\n"
        time.sleep(float(event.get("pause", 0.2)))
