#!/usr/bin/env python3
"""A custom executor written with pymesos's MesosExecutorDriver (unmodified pymesos 0.3.15).

On launchTask: TASK_RUNNING, sends the scheduler a framework message "pong:<task data>", then
TASK_FINISHED; the driver then exits.
"""
import threading
import time

from addict import Dict
from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data


class PongExecutor(Executor):
    def launchTask(self, driver, task):
        def run():
            update = Dict()
            update.task_id.value = task.task_id.value
            update.state = "TASK_RUNNING"
            update.timestamp = time.time()
            driver.sendStatusUpdate(update)
            data = decode_data(task.data).decode() if task.get("data") else ""
            driver.sendFrameworkMessage(encode_data(f"pong:{data}".encode()))
            time.sleep(0.2)
            update = Dict()
            update.task_id.value = task.task_id.value
            update.state = "TASK_FINISHED"
            update.timestamp = time.time()
            driver.sendStatusUpdate(update)
        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    driver = MesosExecutorDriver(PongExecutor(), use_addict=True)
    driver.run()
