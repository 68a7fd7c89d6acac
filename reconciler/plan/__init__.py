"""Planning: a pure diff of desired against remembered and observed state, producing a Plan."""

from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.serialize import plan_from_dict, plan_to_dict
from reconciler.plan.types import Action, Change, FieldChange, Plan

__all__ = ["Action", "Change", "FieldChange", "Plan", "PlanOptions", "make_plan", "plan_from_dict", "plan_to_dict"]
