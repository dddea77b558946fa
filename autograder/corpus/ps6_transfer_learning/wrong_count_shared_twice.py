"""count_trainable that counts a layer used twice twice (named_parameters without removing duplicates)."""
# kind: wrong
# fails: test_count_trainable_other_models

# %% count_trainable
def count_trainable(model):
    return sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False) if p.requires_grad)
