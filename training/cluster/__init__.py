"""Running the engine on a Ray cluster, as Ray Jobs (Ray is imported only here, on
the cluster, and only when a job runs there).

``job``    the entrypoint of a training job: the unchanged trainer on N Ray Train
           workers (``TorchTrainer``, DDP), its events and checkpoints printed as the
           job's log;
``batch``  the entrypoint of a prediction or embedding job: Ray Data ``map_batches``
           over pictures shipped in the job's working dir;
``wire``   the line protocol of those logs, shared with the app that reads them
           (torch-free and Ray-free).
"""
