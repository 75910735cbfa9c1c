"""A small Sedna-compatible federated-learning layer for the offline course environment.

KubeEdge Sedna's library is not on PyPI (PyPI's `sedna` is an unrelated package), so this package
reimplements the part of Sedna's "federated learning V2" API that the week-5 notebook and the
course's aggregation server use, on top of plato-learn 0.4.0:

* `sedna.algorithms.aggregation.FedAvgV2`            - names Plato's FedAvg algorithm
* `sedna.algorithms.client_choose.SimpleClientChoose` - how many clients per round
* `sedna.algorithms.transmitter`                      - how models travel (socket.io only)
* `sedna.core.federated_learning.FederatedLearningV2` - the client side, `train()`
* `sedna.service.server.AggregationServerV2`          - the aggregator, `start()`

Configuration comes from Plato's `Config()` (the course YAML named by env `config_file`) merged
with the objects passed in and with environment variables read through `sedna.common.config`.
"""
