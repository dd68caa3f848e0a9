"""Control optimisation through a learned simulator (sibling of the maintenance chain).

The first application is an electric car's cabin HVAC: :mod:`.plant` co-simulates NREL FASTSim
3 as the plant, :mod:`.logs` records operating logs and imports them like a plant's own export,
:mod:`.simulator` learns the plant from those logs alone, :mod:`.mpc` optimises the control on
the learned simulator, and :mod:`.comfort` defines comfort once for every controller.
"""
