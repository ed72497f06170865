"""Training: the baselines trained here, the fine-tuning of pruned models (the retraining server's job, also
run on the board for the mini-zoo) and the model packages that hand a fine-tuned model to the board."""
