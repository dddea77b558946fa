"""fine_tune whose history is the mean of the batch means (a smaller last batch weighs as much as a full one)."""
# kind: wrong
# fails: test_fine_tune_history_values

# %% fine_tune
def fine_tune(model, train_loader, num_epochs, lr_backbone, lr_head, head="fc"):
    optimizer = torch.optim.Adam(param_groups(model, lr_backbone, lr_head, head))
    history = []
    for _ in range(num_epochs):
        model.train()
        batch_losses = []
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        history.append(sum(batch_losses) / len(batch_losses))
    return history
