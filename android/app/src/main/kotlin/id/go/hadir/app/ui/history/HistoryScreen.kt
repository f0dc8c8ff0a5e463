/**
 * History: the phone's check-ins from :shell's [HistoryRow]s, newest first, each with
 * its title, when, where it stands (a pending one marked) and the server's reasons;
 * on a shared phone a filter by person.
 */
package id.go.hadir.app.ui.history

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.layout.Row
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.LifecycleResumeEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.ui.common.BigTouch
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.core.EnrolledPersonInfo
import id.go.hadir.core.PersonRef
import id.go.hadir.shell.HistoryRow

/** The history screen. */
@Composable
fun HistoryScreen(viewModel: HistoryViewModel, onBack: () -> Unit) {
    val rows by viewModel.rows.collectAsStateWithLifecycle()
    val problem by viewModel.problem.collectAsStateWithLifecycle()
    val people by viewModel.people.collectAsStateWithLifecycle()
    val filter by viewModel.filter.collectAsStateWithLifecycle()
    LifecycleResumeEffect(viewModel) {
        viewModel.refresh()
        onPauseOrDispose { }
    }
    HadirScaffold(stringResource(R.string.history_title), onBack) { padding ->
        LazyColumn(
            modifier = Modifier.fillMaxSize().padding(padding),
            contentPadding = PaddingValues(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            problem?.let { item { ProblemCard(it, onRetry = viewModel::refresh) } }
            if (people.size > 1) item { PersonFilter(people, filter, viewModel::show) }
            items(rows, key = { it.checkinId }) { row -> HistoryRowCard(row) }
        }
    }
}

/** Everyone, or one person of a shared phone. */
@Composable
private fun PersonFilter(people: List<EnrolledPersonInfo>, chosen: PersonRef?, onChoose: (PersonRef?) -> Unit) {
    val options: List<Pair<PersonRef?, String>> = listOf(null to stringResource(R.string.history_everyone)) +
        people.map { it.person to it.displayName }
    Column(Modifier.selectableGroup()) {
        for ((person, name) in options) {
            Row(
                modifier = Modifier
                    .fillMaxWidth()
                    .heightIn(min = BigTouch)
                    .selectable(selected = person == chosen, onClick = { onChoose(person) }, role = Role.RadioButton),
                verticalAlignment = Alignment.CenterVertically,
            ) {
                RadioButton(selected = person == chosen, onClick = null)
                Text(name, style = MaterialTheme.typography.bodyLarge)
            }
        }
    }
}

/** One check-in: title, when, status and reasons. */
@Composable
private fun HistoryRowCard(row: HistoryRow) {
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
            Text(row.title, style = MaterialTheme.typography.titleMedium)
            Text(row.whenText, style = MaterialTheme.typography.bodyMedium)
            Text(
                row.status,
                style = MaterialTheme.typography.titleSmall,
                color = when {
                    row.pending -> MaterialTheme.colorScheme.secondary
                    row.accepted -> MaterialTheme.colorScheme.primary
                    else -> MaterialTheme.colorScheme.error
                },
            )
            for (reason in row.reasons) Text("• $reason", style = MaterialTheme.typography.bodyMedium)
        }
    }
}
