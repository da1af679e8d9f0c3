/*
 * ws agents: processes that connect to /api/v1/agents/connect and pull
 * tasks. A call to one that is not connected fails at once with a clear
 * reason.
 */
#include "engine/exec_internal.h"
#include "core/core.h"


void agent_ws_start(struct agent_call *c)
{
	call_set_error(c, "agent '%s' is not connected (ws agents connect to "
			  "/api/v1/agents/connect)", c->agent->name);
	call_fail_soon(c);
}

void agent_ws_cancel(struct agent_call *c)
{
	(void)c;
}
