"""`kefu simulate`: a day of chats on the real assignment scripts, against Erlang-A.

    workload.py  the plan, arrivals (Poisson, or an hourly trace), handle times, patience, needs
    engine.py    the event loop over the routing scripts with a virtual clock; the summary
    erlang.py    Erlang-A (M/M/n+M): the service level the model promises for the same rates
    plots.py     queue length and service level over the day (matplotlib, optional)
"""
