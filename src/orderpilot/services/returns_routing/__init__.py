"""Return routing (S7): the return-centre and policy registers, and routing a return."""
