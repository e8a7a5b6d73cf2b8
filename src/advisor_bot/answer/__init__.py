"""The answer pipeline: condense -> retrieve -> relevance gate -> select -> generate -> check.

`pipeline.AnswerPipeline` runs the steps in that order and only forward; each step is its own
module and reads the `Query` made once at the start.
"""
